"""The spec: environments/ loaded with line numbers, validated against its JSON Schema, merged
into frozen dataclasses."""
