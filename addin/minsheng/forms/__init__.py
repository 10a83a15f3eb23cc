"""The department forms (填报模板): where things stand on a form, and writing one per lead unit."""
