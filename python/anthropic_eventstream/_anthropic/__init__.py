"""Events -> the anthropic SDK's objects: what this package assumes about the installed SDK, learned once
(``profile``), the SDK's event class built cheaply (``events``), the drop-in decoders (``decoders``), the
stream's integrity, transport and stall checks (``streams``, ``stall``), the fast paths for the SDK's stream
loop, its models and the helper's tool input (``loop``, ``models``, ``tool_input``), and the opt-in that
patches the SDK (``install``: ``install()``, ``accelerate()``, ``uninstall()``).
"""
