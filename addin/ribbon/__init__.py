"""The ribbon XML of the Excel add-in, shipped as package data for `minsheng addin build`."""
