"""The VBA modules of the Excel add-in (text), shipped as package data for `minsheng addin build`."""
