"""A faithful simulator of the Nexudus admin REST API (see /work/shared/research/nexudus-api.md)."""

from .data import NexudusData
from .server import NexudusSimulator

__all__ = ["NexudusData", "NexudusSimulator"]
