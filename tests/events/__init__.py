"""Events: server-sent events and Bedrock chunks decoded into the SDK's event objects, by both backends alike."""
