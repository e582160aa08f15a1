package eventloop

import (
	"fmt"

	"github.com/rs/zerolog"
)

// gnetLogger routes gnet's own logging into zerolog. gnet's INFO lines
// ("Starting gnet client…") are start-up chatter, so they go to DEBUG; its
// errors are about sockets the reactor owns, so they stay WARN: a broken peer
// must never log at ERROR.
type gnetLogger struct{ l zerolog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug().Msg(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug().Msg(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn().Msg(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Warn().Msg(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error().Msg(fmt.Sprintf(f, a...)) }
