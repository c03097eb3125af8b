"""The operations workflows: feedback, content, Q&A (and later events, ecosystem, governance)."""
