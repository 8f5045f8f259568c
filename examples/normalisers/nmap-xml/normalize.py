"""Nmap XML (nmap -oX) to OpenKAT objects.

For every host that is up: its address (IPAddressV4 or IPAddressV6), every
open port (IPPort) and, where nmap names the service on a port, the Service
and the IPService that ties the two together. Closed and filtered ports are
not reported: OpenKAT models what is there.
"""
import xml.etree.ElementTree as ET

NETWORK = "Network|internet"
ADDRESS_TYPES = {"ipv4": "IPAddressV4", "ipv6": "IPAddressV6"}


def open_ports(host):
    for port in host.iter("port"):
        state = port.find("state")
        if state is not None and state.get("state") == "open":
            yield port


def run(input_ooi: dict, raw: bytes):
    root = ET.fromstring(raw)
    services = set()
    for host in root.iter("host"):
        status = host.find("status")
        if status is not None and status.get("state") != "up":
            continue
        for address in host.findall("address"):
            object_type = ADDRESS_TYPES.get(address.get("addrtype"))
            if object_type is None:
                continue  # a MAC address
            ip = address.get("addr")
            yield {"object_type": object_type, "network": NETWORK, "address": ip}
            for port in open_ports(host):
                protocol, number = port.get("protocol"), int(port.get("portid"))
                ip_port = f"IPPort|internet|{ip}|{protocol}|{number}"
                yield {
                    "object_type": "IPPort",
                    "address": f"{object_type}|internet|{ip}",
                    "protocol": protocol,
                    "port": number,
                    "state": "open",
                }
                service = port.find("service")
                name = service.get("name") if service is not None else None
                if not name:
                    continue
                if name not in services:
                    services.add(name)
                    yield {"object_type": "Service", "name": name}
                yield {"object_type": "IPService", "ip_port": ip_port, "service": f"Service|{name}"}
