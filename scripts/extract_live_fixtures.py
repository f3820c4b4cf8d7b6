"""Extract the real 1.19.2 responses recorded in ``LIVE-1.19.2.md`` into fixture files.

Usage::

    python scripts/extract_live_fixtures.py [--live ../shared/syncthing-api/LIVE-1.19.2.md] \\
        [--out tests/fixtures/1.19.2]

Each ``### METHOD path`` section of the document has a status line and a fenced body. Only
200 answers with a complete (not truncated) JSON body are written, under the names in ``NAMES``.
A heading that occurs several times is matched by occurrence (``None`` skips one).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

DEFAULT_LIVE = Path(__file__).resolve().parents[2] / "shared" / "syncthing-api" / "LIVE-1.19.2.md"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "1.19.2"

M47 = "M47G4QY-UXIKMM5-SVL72PN-XOVLWTB-2IO6QUE-5W2JP6D-XASA7C7-SRFSGQH"

# heading -> fixture name per occurrence (None = skip that occurrence)
NAMES: dict[str, list[str | None]] = {
    "GET /rest/system/status": ["system_status", None, None, None, "system_status__restarted"],
    "GET /rest/system/version": ["system_version"],
    "GET /rest/system/ping": ["system_ping"],
    "POST /rest/system/ping": ["system_ping__post"],
    "GET /rest/config": ["config"],
    "GET /rest/config/restart-required": ["config_restart_required"],
    "GET /rest/config/insync": ["config_insync"],
    "GET /rest/system/config/insync": ["system_config_insync"],
    "GET /rest/config/defaults/ignores": ["config_defaults_ignores"],
    "GET /rest/db/status?folder=test1": ["db_status", "db_status__paused"],
    "GET /rest/db/completion?folder=test1": ["db_completion"],
    f"GET /rest/db/completion?folder=test1&device={M47}": ["db_completion__device"],
    "GET /rest/db/need?folder=test1&page=1&perpage=10": ["db_need__empty"],
    f"GET /rest/db/remoteneed?folder=test1&device={M47}&page=1&perpage=5": ["db_remoteneed"],
    "GET /rest/db/localchanged?folder=test1": ["db_localchanged__empty"],
    "GET /rest/db/browse?folder=test1": ["db_browse"],
    "GET /rest/db/browse?folder=test1&levels=0": ["db_browse__levels0"],
    "GET /rest/db/file?folder=test1&file=a.txt": ["db_file__no_peers"],
    "GET /rest/db/ignores?folder=test1": ["db_ignores__none"],
    "POST /rest/db/ignores?folder=test1": ["db_ignores__post"],
    "GET /rest/folder/errors?folder=test1": ["folder_errors__empty"],
    "GET /rest/folder/pullerrors?folder=test1": ["folder_pullerrors"],
    "GET /rest/config/folders/test1": ["config_folder"],
    f"GET /rest/config/devices/{M47}": ["config_device"],
    "GET /rest/config/options": ["config_options"],
    "GET /rest/config/gui": ["config_gui", "config_gui__auth"],
    "GET /rest/config/ldap": ["config_ldap"],
    "GET /rest/config/defaults/folder": ["config_defaults_folder"],
    "GET /rest/config/defaults/device": ["config_defaults_device"],
    "GET /rest/config/folders/putfolder": ["config_folder__put"],
    "GET /rest/config/folders": [None, "config_folders"],
    "GET /rest/cluster/pending/devices": ["cluster_pending_devices__empty"],
    "GET /rest/cluster/pending/folders": ["cluster_pending_folders__empty"],
    "GET /rest/system/connections": ["system_connections"],
    "GET /rest/system/discovery": ["system_discovery"],
    "GET /rest/system/error": [None, "system_error"],
    "GET /rest/system/debug": ["system_debug"],
    "GET /rest/stats/device": ["stats_device"],
    "GET /rest/stats/folder": ["stats_folder"],
    "GET /rest/svc/deviceid?id=m47g4qy-uxikmm5-svl72pn-xovlwtb-2io6que-5w2jp6d-xasa7c7-srfsgqh": [
        "svc_deviceid"
    ],
    "GET /rest/svc/deviceid?id=ABC": ["svc_deviceid__error"],
    f"GET /rest/svc/deviceid?id={M47[:-1]}A": ["svc_deviceid__check_digit"],
    "GET /rest/svc/deviceid?id=": ["svc_deviceid__empty"],
    "GET /rest/svc/random/string?length=12": ["svc_random_string"],
    "GET /rest/svc/lang": ["svc_lang"],
    "GET /rest/svc/report": ["svc_report"],
    "GET /rest/debug/file?folder=test1&file=a.txt": [None, "debug_file"],
    "GET /rest/debug/peerCompletion": ["debug_peer_completion"],
}

_SECTION = re.compile(r"^### (.+)$", re.M)
_STATUS = re.compile(r"\*\*status: (\d{3})")
_BODY = re.compile(r"^```\n(.*?)^```", re.M | re.S)


def sections(text: str) -> list[tuple[str, int | None, str | None]]:
    """(heading, status, body) of every ``###`` section."""
    out: list[tuple[str, int | None, str | None]] = []
    heads = list(_SECTION.finditer(text))
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        chunk = text[head.end() : end]
        status = _STATUS.search(chunk)
        body = _BODY.search(chunk)
        out.append(
            (head.group(1).strip(), int(status.group(1)) if status else None, body.group(1) if body else None)
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--live", type=Path, default=DEFAULT_LIVE)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    seen: dict[str, int] = {}
    written = []
    for heading, status, body in sections(args.live.read_text()):
        index = seen.get(heading, 0)
        seen[heading] = index + 1
        names = NAMES.get(heading, [])
        name = names[index] if index < len(names) else None
        if name is None:
            continue
        if status != 200 or body is None or "[truncated" in body:
            raise SystemExit(f"{heading} (#{index + 1}): no complete 200 body for {name}")
        json.loads(body)
        (args.out / f"{name}.json").write_text(body.rstrip("\n") + "\n")
        written.append(name)
    missing = {n for names in NAMES.values() for n in names if n} - set(written)
    if missing:
        raise SystemExit(f"not found: {sorted(missing)}")
    print("wrote", len(written), "fixtures:", " ".join(sorted(written)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
