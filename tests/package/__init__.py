"""The package as shipped: its layout, its release and CI workflows, and the README."""
