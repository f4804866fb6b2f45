"""What is held about a person, for how long, and how it is erased or exported (docs/privacy.md)."""
