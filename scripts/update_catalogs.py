"""Extract the report's and dashboard's messages and bring every catalog up to date.

    .venv/bin/python scripts/update_catalogs.py

Messages come from ``_()``/``N_()``/``gettext()`` in ``aovlab.report`` and ``aovlab.web``
and ``_()`` in the Jinja2 templates; each ``locales/<code>/LC_MESSAGES/aovlab.po`` keeps
its translations, gains the new messages (untranslated, which the tests refuse) and loses
the ones no longer used. Translate the new entries by hand, then run the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1] / "src" / "aovlab"
LOCALES = ROOT / "report" / "locales"
METHODS = [("**.py", "python"), ("**/templates/**.j2", "jinja2.ext:babel_extract")]
OPTIONS = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n"}}


def template() -> Catalog:
    """Every message the code and templates mark, as a catalog without translations."""
    cat = Catalog(project="aovlab", fuzzy=False)
    for folder in ("report", "web"):
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / folder, METHODS, options_map=OPTIONS, strip_comment_tags=True):
            cat.add(message, None, [(f"{folder}/{filename}", lineno)],
                    auto_comments=comments, context=context)
    return cat


def main() -> int:
    pot = template()
    for po in sorted(LOCALES.glob("*/LC_MESSAGES/aovlab.po")):
        code = po.parent.parent.name
        with po.open("rb") as fh:
            cat = read_po(fh, locale=code)
        cat.update(pot, no_fuzzy_matching=True)
        with po.open("wb") as fh:
            write_po(fh, cat, width=100, omit_header=False, ignore_obsolete=True)
        missing = [m.id for m in cat if m.id and not m.string]
        print(f"{code}: {len(cat)} messages, {len(missing)} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
