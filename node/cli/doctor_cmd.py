"""`dungeon doctor`: check a radio before a game, as `meshtastic --info` shows it, one line a finding."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from typing import Any

from node.cli import argtypes

HELP = "check the node's radio before a game: region, preset, channel, role, hops, firmware, key"

OK, WARN, FAIL = "ok", "warn", "FAIL"
ADVISED_ROLE = "CLIENT_MUTE"  # firmware-notes §5: the node's radio repeats nobody's packets
ADVISED_HOP_LIMIT = 3  # firmware-notes §4: the firmware's default; keep it
TESTED_FIRMWARE = (2, 7)  # firmware-notes assume 2.7; 2.8 is alpha
DEFAULT_PSKS = (b"", b"\x01")  # no key, or the well-known default key ("AQ==")


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | FAIL
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.level:<4}  {self.what:<9} {self.detail}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--radio", metavar="SPEC",
                        help="serial[:PATH] | tcp:HOST[:PORT] (default: the config's, or the "
                             "one USB radio plugged in)")
    parser.add_argument("--config", metavar="FILE", help="the node's TOML config")
    parser.add_argument("--no-send", action="store_true",
                        help="skip the test message (it costs airtime on the game channel)")
    parser.add_argument("--timeout", type=argtypes.positive, default=30.0, metavar="S",
                        help="seconds to wait for the radio to hear the test message repeated "
                             "(default 30)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")


def check_radio(cfg: Any, iface: Any) -> list[Finding]:
    """Findings about a connected meshtastic interface against the config and firmware-notes."""
    from meshtastic.protobuf import channel_pb2, config_pb2

    from node.config import radio_mismatches

    out: list[Finding] = []
    local = iface.localNode.localConfig
    lora_cfg = config_pb2.Config.LoRaConfig
    region = lora_cfg.RegionCode.Name(local.lora.region)
    preset = lora_cfg.ModemPreset.Name(local.lora.modem_preset)
    mismatch = radio_mismatches(cfg, region, preset)
    if region == "UNSET":
        out.append(Finding(FAIL, "region", "UNSET: the radio sends nothing until it has one "
                                            f"(meshtastic --set lora.region {cfg.region})"))
    elif region != cfg.region:
        out.append(Finding(FAIL, "region", mismatch[0]))
    else:
        out.append(Finding(OK, "region", region))
    if preset != cfg.preset:
        out.append(Finding(FAIL, "preset", mismatch[-1]))
    else:
        out.append(Finding(OK, "preset", preset))
    out.append(_channel(cfg.game_channel, iface.localNode.channels or [], channel_pb2))
    role = config_pb2.Config.DeviceConfig.Role.Name(local.device.role)
    if role == ADVISED_ROLE:
        out.append(Finding(OK, "role", role))
    else:
        out.append(Finding(WARN, "role", f"{role}: the node's radio should be {ADVISED_ROLE}, "
                           "so its duty budget goes to the game (firmware-notes §5: "
                           "meshtastic --set device.role CLIENT_MUTE)"))
    hops = int(local.lora.hop_limit)
    if hops == ADVISED_HOP_LIMIT:
        out.append(Finding(OK, "hop limit", str(hops)))
    else:
        out.append(Finding(WARN, "hop limit", f"{hops}: keep the default {ADVISED_HOP_LIMIT} "
                           "(firmware-notes §4: meshtastic --set lora.hop_limit 3)"))
    out.append(_firmware(getattr(iface.metadata, "firmware_version", "") if iface.metadata
                         else ""))
    out.append(_key(bytes(local.security.public_key)))
    return out


def _channel(index: int, channels: list[Any], channel_pb2: Any) -> Finding:
    ch = next((c for c in channels if c.index == index), None)
    if ch is None or ch.role == channel_pb2.Channel.Role.DISABLED:
        return Finding(FAIL, "channel", f"no channel at index {index} (game_channel); add the "
                       "game channel there or set game_channel (firmware-notes §3)")
    name = ch.settings.name or "(default)"
    psk = bytes(ch.settings.psk)
    if psk in DEFAULT_PSKS:
        return Finding(WARN, "channel", f"{index} {name} uses the public default key: strangers "
                       "share its airtime and can read the game; make a private game channel "
                       "(firmware-notes §3)")
    return Finding(OK, "channel", f"{index} {name}, private {8 * len(psk)}-bit key")


def _firmware(version: str) -> Finding:
    if not version:
        return Finding(WARN, "firmware", "the radio did not say its firmware version")
    try:
        major_minor = tuple(int(x) for x in version.split(".")[:2])
    except ValueError:
        return Finding(WARN, "firmware", f"{version}: not a version firmware-notes know")
    if major_minor < TESTED_FIRMWARE:
        return Finding(WARN, "firmware", f"{version}: older than 2.7, which firmware-notes and "
                       "the simulator follow; update the radio")
    if major_minor > TESTED_FIRMWARE:
        return Finding(WARN, "firmware", f"{version}: newer than 2.7 (2.8 is alpha); "
                       "firmware-notes say what changes")
    return Finding(OK, "firmware", version)


def _key(public_key: bytes) -> Finding:
    import base64

    if len(public_key) == 32:
        return Finding(OK, "key", "public key " + base64.b64encode(public_key).decode())
    return Finding(WARN, "key", "the radio has no public key: players' direct messages to the "
                   "node are not PKI-encrypted (firmware 2.5+ makes one; update the radio)")


def send_test(iface: Any, channel: int, timeout_s: float) -> Finding:
    """A text on the game channel with want_ack; the radio answers when it hears it repeated."""
    import threading
    import time

    from meshtastic.protobuf import portnums_pb2

    answered = threading.Event()
    reason: list[str] = []

    def on_ack_nak(packet: dict[str, Any]) -> None:
        reason.append(packet.get("decoded", {}).get("routing", {}).get("errorReason", "NONE"))
        answered.set()

    start = time.monotonic()
    iface.sendData(b"dungeon doctor: radio check", portNum=portnums_pb2.PortNum.TEXT_MESSAGE_APP,
                   wantAck=True, channelIndex=channel, onResponse=on_ack_nak,
                   onResponseAckPermitted=True)
    if not answered.wait(timeout_s):
        return Finding(WARN, "test", f"sent on channel {channel}, but no radio repeated it within "
                       f"{timeout_s:g} s: is another radio in range on the game channel?")
    if reason[0] != "NONE":
        return Finding(FAIL, "test", f"the radio refused the test message: {reason[0]}")
    return Finding(OK, "test", f"sent on channel {channel}; heard repeated after "
                   f"{time.monotonic() - start:.1f} s")


async def _diagnose(cfg: Any, spec: str, send: bool, timeout_s: float) -> list[Finding]:
    import asyncio

    from node.radio.factory import make_transport

    transport = make_transport(spec)
    await transport.start(lambda packet: None)
    try:
        iface = transport.interface  # type: ignore[attr-defined]
        findings = [Finding(OK, "radio", f"!{transport.info.node_num:08x} via {spec}")]
        findings += check_radio(cfg, iface)
        if send:
            findings.append(await asyncio.to_thread(send_test, iface, cfg.game_channel,
                                                    timeout_s))
        return findings
    finally:
        await transport.close()


def run(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import io
    import logging

    from node.cli import UsageError
    from node.config import load_config
    from node.radio.factory import resolve_radio

    cfg = load_config(args.config, radio=args.radio)
    spec, _note = resolve_radio(cfg.radio)
    if spec.split(":", 1)[0] not in ("serial", "tcp"):
        raise UsageError(f"no radio to check ({spec}): plug one in over USB, or pass --radio "
                         "serial:PATH or --radio tcp:HOST")
    # The library logs its connection chatter, and its reader thread prints a traceback when
    # the link closes under its first heartbeat; the findings are this command's output.
    logging.getLogger("meshtastic").setLevel(logging.CRITICAL)
    with contextlib.redirect_stderr(io.StringIO()):
        findings = asyncio.run(_diagnose(cfg, spec, not args.no_send, args.timeout))
    if args.json:
        print(json.dumps([asdict(f) for f in findings]))
    else:
        for f in findings:
            print(f.line())
    problems = [f for f in findings if f.level == FAIL]
    if problems:
        print(f"dungeon doctor: {len(problems)} problem(s) to fix before a game", file=sys.stderr)
        return 1
    return 0
