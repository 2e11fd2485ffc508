"""Canonical models and the table registry built from them."""

from ondigital_connect.models.canonical import make_key
from ondigital_connect.models.spec import Column, TableSpec
from ondigital_connect.models.tables import TABLES, children_of, get_table

__all__ = ["TABLES", "Column", "TableSpec", "children_of", "get_table", "make_key"]
