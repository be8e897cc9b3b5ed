"""Offline, cited question answering over EU migration policy documents.

Data flows one way: corpus -> chunks -> index -> retrieval -> answer -> app/CLI.
"""

__version__ = "0.1.0"
