"""Stream policy: integrity, every failure typed (over real sockets), the stall watchdog and retry before content."""
