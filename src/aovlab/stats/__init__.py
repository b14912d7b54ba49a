"""Statistics on sufficient statistics only: no engine is ever imported here."""

from .moments import Moments, RatioMoments

__all__ = ["Moments", "RatioMoments"]
