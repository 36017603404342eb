package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/web"
)

const userUsage = `user add NAME --role tecnico|jefe|admin|recepcionista [--operator RECEPTIONIST] | user passwd NAME |
user disable NAME | user enable NAME | user role NAME --role R | user operator NAME --operator RECEPTIONIST |
user list [--json] | user token NAME [--label L]`

// cmdUser manages accounts: through the running daemon when it answers on
// its socket, else on the store directly. Passwords are read from the
// terminal without echo, or as lines from standard input when it is not a
// terminal (scripts, tests).
func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, userUsage)
	}
	sub := args[0]
	fs := newFlagSet("user "+sub, stderr)
	cf := addCommonFlags(fs)
	role := fs.String("role", "", "tecnico, jefe, admin or recepcionista")
	operator := fs.String("operator", "", "the configured receptionist a recepcionista account belongs to")
	label := fs.String("label", "", "what the token is for (user token)")
	asJSON := fs.Bool("json", false, "user list as JSON")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	needName := sub != "list"
	if needName != (len(pos) == 1) {
		return fmt.Errorf("%w: %s", errUsage, userUsage)
	}
	name := ""
	if needName {
		name = pos[0]
	}
	switch sub {
	case "add", "role":
		if *role == "" {
			return fmt.Errorf("%w: user %s needs --role tecnico|jefe|admin", errUsage, sub)
		}
		if _, err := access.ParseRole(*role); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		if sub == "add" && (access.Role(*role) == access.RoleRecepcionista) != (*operator != "") {
			return fmt.Errorf("%w: --operator is required with --role recepcionista, and only with it", errUsage)
		}
	case "operator":
	case "passwd", "disable", "enable", "list", "token":
	default:
		return fmt.Errorf("%w: unknown user command %q; %s", errUsage, sub, userUsage)
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	if *operator != "" && !slices.Contains(cfg.ReceptionistNames(), *operator) {
		return fmt.Errorf("%w: --operator %q is not one of the configured receptionists %q", errUsage, *operator, cfg.ReceptionistNames())
	}
	var password string
	if sub == "add" || sub == "passwd" {
		if password, err = readNewPassword(stdin, stderr); err != nil {
			return err
		}
	}
	// Only `user add` may make the store: accounts come before the first start.
	open := openLocal
	if sub == "add" {
		open = openLocalCreating
	}
	l, err := open(cfg, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	if l.client != nil {
		return userViaDaemon(ctx, l, sub, name, *role, *operator, *label, password, *asJSON, stdout)
	}
	by := localActor()
	a := l.access
	switch sub {
	case "add":
		err = a.AddUser(ctx, by, name, access.Role(*role), password)
		if err == nil && *operator != "" {
			err = a.SetOperator(ctx, by, name, *operator)
		}
	case "operator":
		err = a.SetOperator(ctx, by, name, *operator)
	case "passwd":
		err = a.SetPassword(ctx, by, name, password, false)
	case "disable", "enable":
		err = a.SetDisabled(ctx, by, name, sub == "disable")
	case "role":
		err = a.SetRole(ctx, by, name, access.Role(*role))
	case "token":
		var tok string
		if tok, err = a.IssueToken(ctx, by, name, *label); err == nil {
			fmt.Fprintln(stdout, tok)
		}
	case "list":
		var us []access.User
		if us, err = a.Users(ctx); err == nil {
			ws := make([]web.User, 0, len(us))
			for _, u := range us {
				wu := web.User{Name: u.Name, Role: web.Role(u.Role), Disabled: u.Disabled, MustChange: u.MustChange, Created: u.Created, Operator: u.Operator}
				if !u.LastLogin.IsZero() {
					t := u.LastLogin
					wu.LastLogin = &t
				}
				ws = append(ws, wu)
			}
			err = printUsers(stdout, ws, *asJSON)
		}
	}
	return wrapLocal("user "+sub, err)
}

func userViaDaemon(ctx context.Context, l *local, sub, name, role, operator, label, password string, asJSON bool, stdout io.Writer) error {
	c := l.client
	path := "/api/v1/users/" + url.PathEscape(name)
	var err error
	switch sub {
	case "add":
		body := map[string]string{"name": name, "role": role, "password": password}
		if operator != "" {
			body["operator"] = operator
		}
		err = c.Do(ctx, "POST", "/api/v1/users", body, nil)
	case "operator":
		err = c.Do(ctx, "PATCH", path, map[string]any{"operator": operator}, nil)
	case "passwd":
		err = c.Do(ctx, "PATCH", path, map[string]any{"password": password}, nil)
	case "disable", "enable":
		err = c.Do(ctx, "PATCH", path, map[string]any{"disabled": sub == "disable"}, nil)
	case "role":
		err = c.Do(ctx, "PATCH", path, map[string]any{"role": role}, nil)
	case "token":
		var out struct {
			Token string `json:"token"`
		}
		if err = c.Do(ctx, "POST", path+"/token", map[string]string{"label": label}, &out); err == nil {
			fmt.Fprintln(stdout, out.Token)
		}
	case "list":
		var us []web.User
		if err = c.Do(ctx, "GET", "/api/v1/users", nil, &us); err == nil {
			err = printUsers(stdout, us, asJSON)
		}
	}
	return wrapLocal("user "+sub, err)
}

func printUsers(w io.Writer, us []web.User, asJSON bool) error {
	if asJSON {
		return writeJSONLines(w, us)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tRECEPTIONIST\tSTATE\tLAST LOGIN (UTC)")
	for _, u := range us {
		state := "active"
		switch {
		case u.Disabled:
			state = "disabled"
		case u.MustChange:
			state = "must change password"
		}
		last := "never"
		if u.LastLogin != nil {
			last = u.LastLogin.UTC().Format(time.DateTime)
		}
		op := u.Operator
		if op == "" {
			op = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, op, state, last)
	}
	return tw.Flush()
}

// readNewPassword asks for a password twice on a terminal (no echo), or
// reads a password and its confirmation as two lines otherwise (a single
// line is taken as both).
func readNewPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) { //nolint:gosec // G115: a file descriptor fits an int
		fmt.Fprint(stderr, "Contraseña nueva: ")
		a, err := term.ReadPassword(int(f.Fd())) //nolint:gosec // G115: as above
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Repítala: ")
		b, err := term.ReadPassword(int(f.Fd())) //nolint:gosec // G115: as above
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), nil
	}
	sc := bufio.NewScanner(stdin)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	switch {
	case len(lines) == 0 || lines[0] == "":
		return "", errors.New("no password on standard input")
	case len(lines) == 2 && lines[1] != lines[0]:
		return "", errors.New("the two passwords differ")
	}
	return lines[0], nil
}
