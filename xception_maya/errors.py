"""The errors the core raises. Each message says what went wrong and what to do."""


class XceptionMayaError(Exception):
    """Base of every error the product reports to a user."""


class ImageError(XceptionMayaError):
    """An image could not be read or has the wrong shape."""


class ModelError(XceptionMayaError):
    """A model, head or weights file is missing, unknown or does not match."""


class DeviceError(XceptionMayaError):
    """The requested execution device is not available."""
