// empty.cpp -- keeps a layer library valid while it has no sources yet.
