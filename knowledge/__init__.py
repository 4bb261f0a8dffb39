"""Procedure knowledge: schema, loader and matcher. Plain data in, plain results out."""
