"""OPC UA client driver (asyncua): addresses, value codec, PKI folder and the driver itself."""

from drivers.opcua.security import rejected_certificates, trust_rejected_certificate

__all__ = ["rejected_certificates", "trust_rejected_certificate"]
