"""The SDK adapter: the only code that imports ``anthropic`` or ``pydantic``, touches their private attributes, or
holds a release number. One module per seam the package depends on, each learning what it needs of the installed
SDK and exporting a capability (``_patching.Capability``: on with its patches, or off with why):

- ``range``: the supported releases, written here only;
- ``clients``: the client classes, and the signatures of what is patched on them;
- ``loop`` (with ``reviewed_loops/``): the SDK's stream loop, its reviewed forms, and this package's in its place;
- ``decoders`` (with ``events``): the decoder factory, the drop-in decoders and what they are found to match;
- ``body``: how the SDK reads a stream's body and what it raises (the ``StreamSDK`` the stream policy consumes);
- ``retry``: the stream binding inside the SDK's retry loop, and ``retry_before_content``;
- ``status``: a mid-stream error's real status, for the SDK's typed exceptions;
- ``helper`` (with ``tool_input``): the ``messages.stream()`` helper's accumulation;
- ``models``: the SDK's event models, built by tagged pydantic-core validators;
- ``transport``: the socket the stall watchdog may shut down.

``install`` composes the capabilities (``install()``, ``accelerate()``, ``uninstall()``), and ``report`` says what
``diagnostics()`` says of them. The stream policy (``_policy``) consumes what these learn and imports none of it.
"""
