"""Manifests, signing keys and the transparency log arrive with the provenance issue."""
