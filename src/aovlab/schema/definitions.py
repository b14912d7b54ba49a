"""What "order value" means. Tools disagree, so aovlab names the definition in every output.

* ``gross``          – merchandise value before discounts.
* ``net`` (default)  – gross − discounts: Shopify's AOV since 2023 ((gross sales − discounts)
  / orders), and what most analysts mean by the value of the goods sold.
* ``net_of_returns`` – net − refunded amounts.
* ``total``          – what the customer paid, including shipping, tax and fees (many
  articles' "total sales / orders"). GA4's own "average purchase revenue" excludes tax
  and shipping, so for GA4 data it equals ``net``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DefinitionError


@dataclass(frozen=True)
class Definition:
    name: str
    label: str
    help: str
    columns: tuple[tuple[str, int], ...]  # (orders column, sign) summed to the order value

    @property
    def formula(self) -> str:
        parts = []
        for i, (col, sign) in enumerate(self.columns):
            op = "" if i == 0 and sign > 0 else (" + " if sign > 0 else " − ")
            parts.append(f"{op}{col}")
        return "".join(parts).strip()


DEFINITIONS: dict[str, Definition] = {
    d.name: d
    for d in (
        Definition("gross", "Gross AOV", "merchandise value before discounts",
                   (("gross_sales", 1),)),
        Definition("net", "Net AOV", "gross sales − discounts (Shopify's AOV since 2023)",
                   (("gross_sales", 1), ("discounts", -1))),
        Definition("net_of_returns", "Net-of-returns AOV",
                   "gross sales − discounts − refunds",
                   (("gross_sales", 1), ("discounts", -1), ("returns", -1))),
        Definition("total", "Total AOV",
                   "what the customer paid incl. shipping, tax and fees",
                   (("total", 1),)),
    )
}
DEFAULT_DEFINITION = "net"


def get_definition(name: str | Definition | None) -> Definition:
    if isinstance(name, Definition):
        return name
    key = (name or DEFAULT_DEFINITION).lower().replace("-", "_")
    if key not in DEFINITIONS:
        raise DefinitionError(f"unknown AOV definition {name!r}",
                              fix=f"use one of {', '.join(DEFINITIONS)} (default "
                                  f"{DEFAULT_DEFINITION})")
    return DEFINITIONS[key]
