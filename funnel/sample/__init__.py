"""A synthetic CRM export with realistic dirt: the engine behind `funnel generate`."""

from funnel.sample.generate import *  # noqa: F403
from funnel.sample.generate import GenerateSummary, generate

__all__ = ["GenerateSummary", "generate"]
