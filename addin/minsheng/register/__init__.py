"""The task register (任务台账): reading and checking it, its cache, and drafting it from a plan (指标抽取)."""
