"""产融通 (chanrong): an open-source industry–finance cooperation platform."""

__version__ = "0.1.0"
