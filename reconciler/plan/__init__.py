"""Stage 4, the plan: the pure diff of desired and listed snapshots, the ordered plan and its
safety, the plan document and saved plans, and the engine that wires the stages into a plan."""
