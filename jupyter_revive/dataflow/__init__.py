"""Pure dataflow analysis of notebooks: per-cell effects, execution history, restore planning.

Nothing here imports kernel, server or UI code.
"""

from ..contract import CellId, code_sha
from .analysis import analyze_cell
from .history import History, read_history
from .plan import Plan, PlannedCell, PlanWarning
from .planner import plan_history, plan_notebook
from .records import CellAnalysis

__all__ = [
    "CellAnalysis",
    "CellId",
    "History",
    "Plan",
    "PlanWarning",
    "PlannedCell",
    "analyze_cell",
    "code_sha",
    "plan_history",
    "plan_notebook",
    "read_history",
]
