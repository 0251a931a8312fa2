// The floor: a trivial Swift program (stdlib only, no Foundation). Built with and without -static-stdlib.
print("hello")
