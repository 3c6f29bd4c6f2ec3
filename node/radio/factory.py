"""Turn a `--radio` spec ("auto", "loopback", "sim", "serial[:PATH]", "tcp:HOST[:PORT]") into a Transport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.radio.base import LoopbackTransport, Transport, TransportError

DEFAULT_TCP_PORT = 4403
SIM_DEFAULTS: dict[str, Any] = {"players": 3, "hops": 1, "preset": "LONG_FAST", "loss": 0.0,
                                "seed": 0}


def _sim_options(rest: str) -> dict[str, Any]:
    """Parse "players=3,hops=2,preset=MEDIUM_FAST,loss=0.1,seed=7" over the defaults."""
    opts = dict(SIM_DEFAULTS)
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key not in opts:
            raise TransportError(f"bad sim option {part!r}; use {', '.join(SIM_DEFAULTS)}=VALUE")
        try:
            opts[key] = type(SIM_DEFAULTS[key])(value)
        except ValueError:
            raise TransportError(f"bad value for sim option {key}: {value!r}") from None
    return opts


NO_RADIO_HINT = ("plug a Meshtastic radio in over USB, or pass --radio serial:PATH or "
                 "--radio tcp:HOST (DUNGEON_RADIO / radio in node.toml)")


def usb_radios() -> list[str]:
    """Serial ports that look like Meshtastic radios, found as the meshtastic CLI finds them.

    meshtastic.util.findPorts lists serial ports whose USB vendor is one the library knows
    (Espressif, Silicon Labs, WCH, Nordic, RAK...) and drops duplicates.
    """
    from meshtastic.util import findPorts

    return list(findPorts(True))


def resolve_radio(spec: str, find: Callable[[], list[str]] = usb_radios) -> tuple[str, str]:
    """The concrete spec for "auto" (and a line to tell the user), or `spec` unchanged.

    "auto" is the one USB radio plugged in; with none the node runs on loopback (no radio),
    and with several the user must choose.
    """
    if spec.strip().lower() != "auto":
        return spec, ""
    found = find()
    if not found:
        return "loopback", f"no radio found: running with no radio (loopback); {NO_RADIO_HINT}"
    if len(found) > 1:
        raise TransportError(f"found {len(found)} USB radios ({', '.join(found)}); "
                             "choose one with --radio serial:PATH")
    return f"serial:{found[0]}", f"using the USB radio at {found[0]} (--radio serial:PATH to choose)"


def make_transport(spec: str, *, mesh: Any = None) -> Transport:
    """Build the transport named by `spec`.

    "sim[:players=N,hops=H,preset=P,loss=L,seed=S]" puts the node on a small simulated
    mesh (or on `mesh`, a node.sim.mesh.Mesh, when given); the returned SimTransport's
    `.mesh` holds the players' radios for bots. The meshtastic library is imported only
    for serial and tcp.
    """
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "auto":
        return make_transport(resolve_radio(spec)[0], mesh=mesh)
    if kind == "loopback":
        return LoopbackTransport()
    if kind == "sim":
        from node.sim.mesh import Mesh
        from node.sim.transport import SimTransport

        if mesh is None:
            o = _sim_options(rest)
            mesh = Mesh.build(players=o["players"], hops=o["hops"], preset=o["preset"],
                              loss=o["loss"], seed=o["seed"])
        if mesh.node_num is None:
            raise TransportError("the simulated mesh has no node radio")
        return SimTransport(mesh, mesh.node_num)
    if kind == "serial":
        from pathlib import Path

        if rest and not Path(rest).exists():  # say so now, with what is plugged in instead
            found = ", ".join(usb_radios()) or "none"
            raise TransportError(f"no serial device {rest}; USB radios found: {found}")
        from node.radio.meshtastic_transport import MeshtasticTransport


        return MeshtasticTransport.serial(rest or None)
    if kind == "tcp":
        host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
        if not host:
            raise TransportError("tcp radio needs a host: tcp:HOST[:PORT]")
        try:
            number = int(port) if port else DEFAULT_TCP_PORT
        except ValueError:
            raise TransportError(f"bad tcp port {port!r}") from None
        from node.radio.meshtastic_transport import MeshtasticTransport

        return MeshtasticTransport.tcp(host, number)
    raise TransportError(
        f"unknown radio {spec!r}; use auto, loopback, sim, serial[:PATH] or tcp:HOST[:PORT]"
    )
