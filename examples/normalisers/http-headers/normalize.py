"""HTTP response headers (curl -i output) to OpenKAT objects and findings.

The raw file is what `curl -s -i URL` printed: a status line, headers, an
empty line, the body; with redirects followed there are several header
blocks and the last one counts. Every header becomes an HTTPHeader of the
input HTTPResource; each missing security header becomes a Finding, and a
Server header that names a version becomes one too.
"""
import re

SECURITY_HEADERS = {
    "content-security-policy": (
        "KAT-NO-CSP",
        "No Content-Security-Policy header: the browser will run any script injected into the page.",
    ),
    "x-frame-options": (
        "KAT-NO-X-FRAME-OPTIONS",
        "No X-Frame-Options header: other sites may frame this page (clickjacking).",
    ),
    "x-content-type-options": (
        "KAT-NO-X-CONTENT-TYPE-OPTIONS",
        "No X-Content-Type-Options: nosniff header: browsers may guess content types.",
    ),
    "referrer-policy": (
        "KAT-NO-REFERRER-POLICY",
        "No Referrer-Policy header: full URLs may leak to other sites in the Referer header.",
    ),
}
VERSION_IN_SERVER = ("KAT-SERVER-VERSION-DISCLOSED", "The Server header names software and its version.")


def last_header_block(text):
    blocks = re.split(r"\r?\n\r?\n", text)
    headers = None
    for block in blocks:
        if re.match(r"HTTP/\d(\.\d)? \d{3}", block):
            headers = block
        elif headers is not None:
            break  # the body
    if headers is None:
        raise ValueError("no HTTP status line: not curl -i output")
    return headers.splitlines()[1:]


def finding(resource, finding_type, description):
    yield {"object_type": "KATFindingType", "id": finding_type}
    yield {
        "object_type": "Finding",
        "finding_type": f"KATFindingType|{finding_type}",
        "ooi": resource,
        "description": description,
    }


def run(input_ooi: dict, raw: bytes):
    resource = input_ooi["primary_key"]
    seen = {}
    for line in last_header_block(raw.decode("iso-8859-1")):
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        seen[key] = value.strip()
        yield {"object_type": "HTTPHeader", "resource": resource, "key": key, "value": value.strip()}
    for key, (finding_type, description) in SECURITY_HEADERS.items():
        if key not in seen:
            yield from finding(resource, finding_type, description)
    if re.search(r"/\d", seen.get("server", "")):
        finding_type, description = VERSION_IN_SERVER
        yield from finding(resource, finding_type, f"{description} ({seen['server']})")
