"""Exchange services, by subdomain:

- `envelope`  the wire format: canonical JSON, Ed25519 signatures, checks
- `identity`  this deployment's key pair and identity
- `peers`     registration codes and the registration handshake
- `collect`   the payload of each kind, built from this deployment's data
- `outbox`    batches to send, their delivery with retries, pulls
- `inbox`     receiving: the refusals, storing what is accepted
"""
