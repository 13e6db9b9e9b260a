"""The label vocabulary shared by training, prediction and the rest of the product."""

from typing import Final

SALES: Final = "sales"
PRODUCT: Final = "product"
SERVICE: Final = "service"
NONE: Final = "none"
TRIAGE: Final = "triage"

# Departments that own a queue; `none` means no department must act.
DEPARTMENTS: Final[tuple[str, ...]] = (SALES, PRODUCT, SERVICE)
PRIMARY_LABELS: Final[tuple[str, ...]] = (*DEPARTMENTS, NONE)
# Where a prediction can be sent: a department, `none` (nothing to act on),
# or `triage` when the model is not confident enough to decide alone.
QUEUES: Final[tuple[str, ...]] = (*DEPARTMENTS, NONE, TRIAGE)
KINDS: Final[tuple[str, ...]] = ("complaint", "suggestion", "praise", "question", "other")
