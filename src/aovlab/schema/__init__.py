"""The bottom layer: canonical tables, their rules, and the named AOV definitions.

Everything else reads these declarations; this layer imports nothing from aovlab but
:mod:`aovlab.errors`.
"""

from .definitions import DEFAULT_DEFINITION, DEFINITIONS, Definition, get_definition
from .rules import Finite, OneOf, Pattern, Range, References, Rule, sql_literal
from .tables import (
    ASSIGNMENTS,
    COUNTED_STATUSES,
    CURRENCIES,
    CUSTOMER_TYPES,
    CUSTOMERS,
    FIRST_DATE,
    IMPORTS_DDL,
    LAST_DATE,
    LINE_TYPES,
    META_DDL,
    NOT_SET,
    ORDER_LINES,
    ORDERS,
    POLICY,
    PRODUCTS,
    SCHEMA_VERSION,
    SOURCE_PATTERN,
    STATUSES,
    TABLES,
    TRAFFIC,
    UPGRADABLE,
    Column,
    Table,
)

__all__ = [
    "ASSIGNMENTS", "CUSTOMER_TYPES", "UPGRADABLE",
    "COUNTED_STATUSES", "CURRENCIES", "CUSTOMERS", "DEFAULT_DEFINITION", "DEFINITIONS",
    "FIRST_DATE", "LAST_DATE",
    "IMPORTS_DDL",
    "LINE_TYPES", "META_DDL", "NOT_SET", "ORDERS", "ORDER_LINES", "PRODUCTS", "SCHEMA_VERSION",
    "SOURCE_PATTERN", "STATUSES", "TABLES", "TRAFFIC", "Column", "Definition", "Finite",
    "OneOf", "Pattern",
    "POLICY", "Range", "References", "Rule", "Table", "get_definition", "sql_literal",
]
