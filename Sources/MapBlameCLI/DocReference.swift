/// Where a help text sends the reader for a format: the documents are installed with mapblame
/// (`make install`, the tarball, the .deb) in PREFIX/share/doc/mapblame, so name that folder
/// rather than the source tree's docs/, which an installed user does not have.
func docReference(_ file: String) -> String {
    "share/doc/mapblame/\(file)"
}
