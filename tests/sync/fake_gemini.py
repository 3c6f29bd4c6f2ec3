"""A local fake of Gemini's generateContent endpoint, for pointing the real google-genai SDK at."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeGemini:
    """mode: ok | 429 | 500 | slow | malformed | illegal. `pick` chooses among the offered ids."""

    mode: str = "ok"
    delay_s: float = 1.5
    pick: Any = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> FakeGemini:
        app = web.Application()
        app.router.add_post("/v1beta/models/{model}:generateContent", self.generate)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    async def generate(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"model": request.match_info["model"], "body": body,
                              "key": request.headers.get("x-goog-api-key")})
        if self.mode == "429":
            return web.json_response({"error": {"code": 429, "message": "Resource has been exhausted",
                                                "status": "RESOURCE_EXHAUSTED"}}, status=429)
        if self.mode == "500":
            return web.json_response({"error": {"code": 500, "message": "Internal error",
                                                "status": "INTERNAL"}}, status=500)
        if self.mode == "slow":
            await asyncio.sleep(self.delay_s)
        ids = body["generationConfig"]["responseSchema"]["properties"]["action"]["enum"]
        if self.mode == "malformed":
            text = '{"action": "' + ids[0] + '", "flav'
        elif self.mode == "illegal":
            text = json.dumps({"action": "summon-dragon", "target": "", "flavour": "Rawr"})
        else:
            chosen = self.pick(ids) if self.pick else ids[-1]
            text = json.dumps({"action": chosen, "target": "",
                               "flavour": "The goblin snarls and lunges at the weakest foe!" * 3})
        return web.json_response({
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 30,
                              "totalTokenCount": 150},
            "modelVersion": "gemini-2.5-flash",
        })
