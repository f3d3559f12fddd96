"""Where tui/domain/country_name_table.py comes from: phonenumbers' geocoder (English).

`make country-names` runs this file to rewrite the table after a phonenumbers upgrade;
test_country_names.py compares the table with the installed phonenumbers. Only tests and
that make target import the geocoder: it costs ~100 MiB (see country_names.py).
"""

from __future__ import annotations

import json
from pathlib import Path

TABLE = Path(__file__).resolve().parents[2] / "tui" / "domain" / "country_name_table.py"

HEADER = '''"""English names of regions by ISO code, from phonenumbers' geocoder (generated).

Do not edit: `make country-names` rewrites this file (tests/domain/country_name_source.py).
"""

ENGLISH: dict[str, str] = {
'''


def geocoder_names() -> dict[str, str]:
    """Every region phonenumbers' geocoder names, with its English name."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    names = {}
    for region, by_language in LOCALE_DATA.items():
        name = by_language.get("en", "")
        if name.startswith("*"):  # "*xx": the name is the one given for language xx
            name = by_language.get(name[1:], "")
        if name:
            names[str(region)] = str(name)
    return dict(sorted(names.items()))


def render(names: dict[str, str]) -> str:
    # JSON strings are Python literals in the double quotes ruff's format wants.
    quoted = (f"{json.dumps(r)}: {json.dumps(n, ensure_ascii=False)}" for r, n in names.items())
    lines = "".join(f"    {entry},\n" for entry in quoted)
    return f"{HEADER}{lines}}}\n"


if __name__ == "__main__":
    TABLE.write_text(render(geocoder_names()), encoding="utf-8")
    print(f"wrote {TABLE}")
