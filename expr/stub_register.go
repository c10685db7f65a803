package expr

import "github.com/kappa-db/kappa/types"

func registerArith()                       {}
func registerCompare()                     {}
func registerMath()                        {}
func registerText()                        {}
func registerDatetime()                    {}
func concatOperator(l, r types.Type) *Func { return nil }
