"""Exposed sensitive files, from a JSON-lines scan.

The raw file has one JSON record per probed URL, as `curl -s -o /dev/null
-w '%{json}\\n' URL` writes them (url_effective, http_code, content_type,
size_download, ...). A probe of a sensitive path that was answered with
200 and a body becomes a URL object and a Finding on it. A line that is not
JSON is reported on stderr and skipped: one broken record must not hide the
rest.
"""
import json
import sys
from urllib.parse import urlsplit

SENSITIVE = {
    "/.git/config": ("KAT-EXPOSED-GIT", "A Git repository's configuration is public: its history may be too."),
    "/.env": ("KAT-EXPOSED-ENV-FILE", "An environment file is public: it often holds passwords and keys."),
    "/backup.sql": ("KAT-EXPOSED-BACKUP", "A database backup is public."),
    "/server-status": ("KAT-EXPOSED-SERVER-STATUS", "The server's status page is public."),
}


def run(input_ooi: dict, raw: bytes):
    types_done = set()
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            probe = json.loads(line)
        except ValueError as e:
            print(f"line {number}: not JSON ({e}), skipped", file=sys.stderr)
            continue
        url = probe.get("url_effective") or probe.get("url") or ""
        hit = SENSITIVE.get(urlsplit(url).path)
        if hit is None or probe.get("http_code") != 200 or not probe.get("size_download"):
            continue
        finding_type, description = hit
        url_ref = f"URL|internet|{url}"
        yield {"object_type": "URL", "network": "Network|internet", "raw": url}
        if finding_type not in types_done:
            types_done.add(finding_type)
            yield {"object_type": "KATFindingType", "id": finding_type}
        yield {
            "object_type": "Finding",
            "finding_type": f"KATFindingType|{finding_type}",
            "ooi": url_ref,
            "description": f"{description} ({probe.get('size_download')} bytes, "
            f"{probe.get('content_type') or 'no content type'})",
        }
