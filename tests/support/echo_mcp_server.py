#!/usr/bin/env python3
"""A minimal MCP server on stdio for end-to-end tests: one tool, `shout`, that upper-cases
its `text` argument.

The runtime starts it as a local MCP server; messages are JSON-RPC 2.0, one per line. Only
what a tool call needs is implemented: `initialize`, `tools/list`, `tools/call` and `ping`;
notifications are read and ignored, any other request gets error -32601.
"""

import json
import sys

TOOL = {
    "name": "shout",
    "description": "Returns its text argument in capital letters.",
    "inputSchema": {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    },
}


def answer(request):
    method = request.get("method")
    params = request.get("params") or {}
    if method == "initialize":
        return {
            "protocolVersion": params.get("protocolVersion", "2024-11-05"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "echo-mcp", "version": "1.0.0"},
        }
    if method == "tools/list":
        return {"tools": [TOOL]}
    if method == "tools/call":
        text = str((params.get("arguments") or {}).get("text", ""))
        return {"content": [{"type": "text", "text": text.upper()}], "isError": False}
    if method == "ping":
        return {}
    return None


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        if "id" not in request:
            continue
        result = answer(request)
        reply = {"jsonrpc": "2.0", "id": request["id"]}
        if result is None:
            reply["error"] = {"code": -32601, "message": "method not found"}
        else:
            reply["result"] = result
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
