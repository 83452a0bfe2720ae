"""A human page of the API, rendered on the server from the OpenAPI document: one self-contained HTML file (no
script, no CDN), a table per route with its roles, parameters, body fields and answers."""
from __future__ import annotations

import json
from html import escape

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1.5rem;color:#1f2328}
h1{margin:0 0 .25rem}h2{margin:2rem 0 .5rem;font-size:1.15rem}code{font:13px ui-monospace,monospace}
section{border:1px solid #d0d7de;border-radius:8px;padding:.75rem 1rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border-bottom:1px solid #eaeef2;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f6f8fa;font-weight:600}.m{font-weight:700;padding:.1rem .45rem;
border-radius:4px;color:#fff;background:#57606a;font-size:12px}.GET{background:#0969da}.POST{background:#1a7f37}.PUT{background:#9a6700}
.DELETE{background:#cf222e}.muted{color:#57606a}
"""


def render(document: dict) -> str:
    """The page for `document` (an OpenAPI 3.1 dict); every text from it is HTML-escaped."""
    info = document["info"]
    operations = [(path, method.upper(), op) for path, item in document["paths"].items() for method, op in item.items()]
    index = "".join(
        f'<tr><td><span class="m {m}">{m}</span></td><td><a href="#{_anchor(m, p)}"><code>{escape(p)}</code></a></td>'
        f"<td>{escape(op.get('summary', ''))}</td><td>{escape(', '.join(op.get('x-roles', [])))}</td></tr>"
        for p, m, op in operations
    )
    body = "".join(_operation(path, method, op, document) for path, method, op in operations)
    base = escape(document["servers"][0]["url"])
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(info['title'])}</title>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info['title'])} <span class=muted>{escape(info['version'])}</span></h1>"
        f"<p>{escape(info.get('description', ''))}</p><p>Base path <code>{base}</code>; errors are "
        "<code>{\"error\": {\"code\", \"message\", \"field\"}}</code>; the machine-readable document is "
        f'<a href="{base}/openapi.json">openapi.json</a>.</p><table><thead><tr><th>Method</th><th>Path</th><th>What</th>'
        f"<th>Roles</th></tr></thead><tbody>{index}</tbody></table>{body}</body></html>"
    )


def _anchor(method: str, path: str) -> str:
    return f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "")


def _operation(path: str, method: str, op: dict, document: dict) -> str:
    statuses = ", ".join(escape(code) for code in op["responses"])
    parts = [
        f'<section id="{_anchor(method, path)}"><h2><span class="m {method}">{method}</span> <code>{escape(path)}</code> '
        f"{escape(op.get('summary', ''))}</h2><p>Roles: <b>{escape(', '.join(op.get('x-roles', [])))}</b>. "
        f"Answers: {statuses}.</p>"
    ]
    if op.get("parameters"):
        rows = [(p["name"], p["in"], _type(p["schema"], document), "yes" if p.get("required") else "",
                 _constraints(p["schema"]), p.get("description", "")) for p in op["parameters"]]
        parts.append(_table(("Parameter", "In", "Type", "Required", "Limits", "Description"), rows))
    if "requestBody" in op:
        parts.append("<p>JSON body:</p>" + _fields(op["requestBody"]["content"]["application/json"]["schema"], document))
    success = [(code, r) for code, r in op["responses"].items() if code.startswith("2") and "content" in r]
    for code, response in success[:1]:
        media_type, content = next(iter(response["content"].items()))
        if media_type == "application/json":
            parts.append(f"<p>Answer ({escape(code)}):</p>" + _fields(content["schema"], document))
        else:
            parts.append(f"<p>Answer ({escape(code)}): a download, <code>{escape(media_type)}</code>.</p>")
    return "".join(parts) + "</section>"


def _resolve(schema: dict, document: dict) -> dict:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _fields(schema: dict, document: dict) -> str:
    schema = _resolve(schema, document)
    required = set(schema.get("required", []))
    rows = [(name, _type(prop, document), "yes" if name in required else "", _constraints(prop), prop.get("description", ""))
            for name, prop in schema.get("properties", {}).items()]
    return _table(("Field", "Type", "Required", "Limits", "Description"), rows)


def _type(schema: dict, document: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "anyOf" in schema:
        return " | ".join(_type(option, document) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}), document)}"
    if "enum" in schema:
        return " | ".join(repr(value) for value in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _constraints(schema: dict) -> str:
    names = ("minLength", "maxLength", "minimum", "maximum", "maxItems", "pattern", "default")
    found = [f"{name} {json.dumps(schema[name])}" for name in names if name in schema]
    for option in schema.get("anyOf", []):
        found += [f"{name} {json.dumps(option[name])}" for name in names if name in option]
    return ", ".join(found)


def _table(headings: tuple[str, ...], rows: list[tuple]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    cells = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
