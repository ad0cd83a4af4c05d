"""The distribution service: the purpose-bound change stream and its webhooks."""
