"""`inv db.erd`: the schema as a picture at any revision, and two revisions' difference.

    source  the catalog of a scratch database migrated to the revision (`source`, `read`)
    select  what to draw: schemas, a focus, a diff's changes and their neighbours
    split   chunks along foreign-key clusters, each within Mermaid's limits (`layout`)
    render  mermaid, markdown, dot, svg and html (through Graphviz), json
    output  a file, or the block between two markers of a Markdown file (`--check`)

Everything is ordered by name, so the same schema always gives the same bytes.
"""
