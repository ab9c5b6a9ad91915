"""lianchuang (联创): the yearly cycle of community party-building joint creation."""

__version__ = "0.1.0"
