package web

import (
	"sync"

	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/repository"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/goregular"
)

// pdfFamily is the font family of the documents that embed their font: the
// Go fonts (BSD licence), embedded and subset as UTF-8, so that "≥", "µ",
// "±", "Ł" or "ż" print as themselves rather than as the dots the PDF core
// fonts, limited to Latin-1, give them.
const pdfFamily = "go"

// pdfFonts are the four styles of pdfFamily, loaded once.
var pdfFonts = sync.OnceValues(func() ([]*entity.CustomFont, error) {
	return repository.New().
		AddUTF8FontFromBytes(pdfFamily, fontstyle.Normal, goregular.TTF).
		AddUTF8FontFromBytes(pdfFamily, fontstyle.Bold, gobold.TTF).
		AddUTF8FontFromBytes(pdfFamily, fontstyle.Italic, goitalic.TTF).
		AddUTF8FontFromBytes(pdfFamily, fontstyle.BoldItalic, gobolditalic.TTF).
		Load()
})
