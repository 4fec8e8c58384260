#!/usr/bin/env python3
"""A minimal MCP server on stdio for end-to-end tests, with two tools: `shout` upper-cases its
`text` argument; `ask_name` asks the user for a name through an elicitation and returns it.

The runtime starts it as a local MCP server; messages are JSON-RPC 2.0, one per line. Only
what the tests need is implemented: `initialize`, `tools/list`, `tools/call` and `ping`;
notifications are read and ignored, any other request gets error -32601.
"""

import json
import sys

TOOLS = [
    {
        "name": "shout",
        "description": "Returns its text argument in capital letters.",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    },
    {
        "name": "ask_name",
        "description": "Asks the user for their name.",
        "inputSchema": {"type": "object", "properties": {}},
    },
]


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def elicit_name():
    """Sends `elicitation/create` and waits for its reply; other traffic is left unanswered."""
    send({
        "jsonrpc": "2.0",
        "id": "elicit-1",
        "method": "elicitation/create",
        "params": {
            "message": "What is your name?",
            "requestedSchema": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
            },
        },
    })
    for line in sys.stdin:
        if line.strip():
            message = json.loads(line)
            if message.get("id") == "elicit-1" and "method" not in message:
                return message.get("result") or {"action": "error", "error": message.get("error")}
    return {"action": "cancel"}


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
        return {"tools": TOOLS}
    if method == "tools/call" and params.get("name") == "ask_name":
        answer_text = json.dumps(elicit_name())
        return {"content": [{"type": "text", "text": "elicited: " + answer_text}]}
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
        if "id" not in request or "method" not in request:
            continue
        result = answer(request)
        reply = {"jsonrpc": "2.0", "id": request["id"]}
        if result is None:
            reply["error"] = {"code": -32601, "message": "method not found"}
        else:
            reply["result"] = result
        send(reply)


if __name__ == "__main__":
    main()
