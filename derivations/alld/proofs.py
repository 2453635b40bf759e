KINDS=()
def prove(kind): pass
