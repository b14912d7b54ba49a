"""Write docs/cli.md from the commands' own --help and docs/data-model.md from
aovlab.schema, so the references cannot drift.

Run: python scripts/gen_cli_docs.py   (tests/test_cli.py checks the file is current)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["COLUMNS"] = "100"
os.environ["TERM"] = "dumb"

from typer.testing import CliRunner  # noqa: E402

from aovlab.cli import app  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
MODEL = DOC.parent / "data-model.md"
COMMANDS = ["import", "kpis", "histogram", "explain", "threshold", "threshold-change",
            "price-test", "abtest", "power", "export", "check", "status", "definitions", "demo"]


def render() -> str:
    runner = CliRunner()
    parts = ["# CLI reference\n", "Generated from `aovlab COMMAND --help` by "
             "`scripts/gen_cli_docs.py`; do not edit by hand.\n"]
    for args in [[], *[[c] for c in COMMANDS]]:
        res = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1",
                                                          "TERM": "dumb"}, terminal_width=100)
        title = "aovlab" + (f" {args[0]}" if args else "")
        text = "\n".join(line.rstrip() for line in res.output.splitlines()).strip()
        parts.append(f"## `{title}`\n\n```text\n{text}\n```\n")
    return "\n".join(parts)


def render_model() -> str:
    from aovlab import schema

    out = ["# Data model\n", "Generated from `aovlab/schema.py` by `scripts/gen_cli_docs.py`. "
           "Every importer writes these tables; every metric reads them.\n",
           f"Order statuses: {', '.join(schema.STATUSES)} (AOV counts "
           f"{' and '.join(schema.COUNTED_STATUSES)} by default). Line types: "
           f"{', '.join(schema.LINE_TYPES)}. Missing dimensions show as `{schema.NOT_SET}`.\n"]
    for t in schema.TABLES.values():
        out.append(f"## `{t.name}`\n\n{t.doc} Key: ({', '.join(t.key)}).\n")
        out.append("| column | type | required | meaning |\n|---|---|---|---|")
        for c in t.columns:
            out.append(f"| `{c.name}` | {c.type} | {'no' if c.nullable else 'yes'} | {c.doc} |")
        out.append("")
        checks = [r for r in t.rules if not isinstance(r, schema.References)]
        if checks:
            out.append("Refused on import:\n")
            for r in checks:
                when = f" (where {r.when})" if getattr(r, "when", None) else ""
                out.append(f"- `{r.column}`: {r.problem}{when}")
            out.append("")
    out.append("## Signs, sizes and dates\n")
    out.append(schema.POLICY.replace("\n", " ") + "\n")
    return "\n".join(out)


if __name__ == "__main__":
    if "--check" in sys.argv:
        ok = DOC.read_text() == render() and MODEL.read_text() == render_model()
        sys.exit(0 if ok else 1)
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render())
    MODEL.write_text(render_model())
    print(f"wrote {DOC} and {MODEL}")
