"""Turn a `--radio` spec ("loopback", "sim", "serial[:PATH]", "tcp:HOST[:PORT]") into a Transport."""

from __future__ import annotations

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


def make_transport(spec: str, *, mesh: Any = None) -> Transport:
    """Build the transport named by `spec`.

    "sim[:players=N,hops=H,preset=P,loss=L,seed=S]" puts the node on a small simulated
    mesh (or on `mesh`, a node.sim.mesh.Mesh, when given); the returned SimTransport's
    `.mesh` holds the players' radios for bots. The meshtastic library is imported only
    for serial and tcp.
    """
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
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
        f"unknown radio {spec!r}; use loopback, sim, serial[:PATH] or tcp:HOST[:PORT]"
    )
