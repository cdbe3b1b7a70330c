"""The botocore adapter: botocore's EventStream and buffer, aiobotocore and litellm, stock against installed."""
