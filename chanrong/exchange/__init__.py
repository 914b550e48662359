"""互联互通: federation between deployments (county → city → province →
ministry). Each deployment has one Ed25519 identity; a child registers with
its parent by a one-time code, and pushes signed, versioned, idempotent
batches that the parent verifies, stores per source and shows beside its
own figures. The wire format is documented in docs/exchange.md."""
