"""A faithful simulator of the Nexudus admin REST API (see /work/shared/research/nexudus-api.md)."""

from .data import NexudusData
from .limits import NexudusLimits
from .server import NexudusSimulator

__all__ = ["NexudusData", "NexudusLimits", "NexudusSimulator"]
